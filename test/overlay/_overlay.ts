// The overlay public surface, for the overlay tests and the interop tests that share their helpers.
export * from "../../overlay/index.js";

/**
 * ovsim's public API for topology files and embedders. Each module's own surface is
 * its folder's index.ts; this file re-exports what a user writing a topology needs.
 */
export * as ovsdb from "./ovsdb/index.js";
export * as packet from "./packet/index.js";
export * as sim from "./sim/index.js";

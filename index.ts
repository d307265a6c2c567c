/**
 * ovsim's public API for topology files and embedders: `import { Topology } from
 * "ovsim"`. Each module's own surface is its folder's index.ts, re-exported here as a
 * namespace; the names a topology file needs most are also exported directly.
 */
export * as datapath from "./datapath/index.js";
export * as overlay from "./overlay/index.js";
export * as ovsdb from "./ovsdb/index.js";
export * as packet from "./packet/index.js";
export * as sim from "./sim/index.js";
export {
  Hypervisor,
  loadTopologyFile,
  Network,
  parseTopology,
  Topology,
  TopologyError,
} from "./sim/index.js";
export * as vswitchd from "./vswitchd/index.js";

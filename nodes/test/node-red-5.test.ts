import { runtimeSuite } from "./support/runtime-suite.ts";

// Node-RED 5.0.x (it loads node files with import()).
runtimeSuite("node-red");

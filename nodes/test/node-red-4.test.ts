import { runtimeSuite } from "./support/runtime-suite.ts";

// Node-RED 4.1.x, installed as the npm alias node-red-4 (it loads node files with require()).
runtimeSuite("node-red-4");

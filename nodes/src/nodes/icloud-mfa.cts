// Node-RED 4 loads node files with require(), Node-RED 5 with import(): this CommonJS entry works
// for both and loads the node's ES module code (and the engine, an ES module) with import().
module.exports = async function icloudMfa(RED: object): Promise<void> {
  const { register } = await import("./icloud-mfa.ts");
  register(RED as Parameters<typeof register>[0]);
};

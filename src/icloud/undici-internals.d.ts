// undici's own files that src/icloud/undici-core.ts imports; their real types come from the package's
// declarations (`typeof Agent`, `request`), applied there.
declare module "undici/lib/dispatcher/agent.js" {
  const agent: unknown;
  export default agent;
}

declare module "undici/lib/api/index.js" {
  const api: unknown;
  export default api;
}

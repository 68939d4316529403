export { type KeyRecord, KeyStore, ricloudDir } from "./key-store.ts";
export { passwordVerifier } from "./passwords.ts";
export { type RicloudApiOptions, RicloudApiServer, startRicloudApi } from "./server.ts";
export type { PasswordVerifier } from "./sessions.ts";

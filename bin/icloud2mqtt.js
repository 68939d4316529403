#!/usr/bin/env node
// Entry point for `npx icloud2mqtt` / a global install: the sources run under Node's type stripping.
import "../src/cli/main.ts";

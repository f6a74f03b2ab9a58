#!/usr/bin/env node
// The `moisson` command: runs the TypeScript CLI through tsx, resolved from this package.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../scripts/cli/index.ts');
await main();

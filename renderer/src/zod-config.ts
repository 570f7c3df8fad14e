// Imported first by main.ts, before any schema exists: zod compiles fast object parsers with
// new Function() (decided when a schema is built), which the page's CSP (no 'unsafe-eval')
// forbids. Parse the interpreted way, and never even probe for eval.
import { z } from 'zod';

z.config({ jitless: true });

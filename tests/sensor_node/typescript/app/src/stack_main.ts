// Prints the stacks of stack_cases.ts as JSON.
import { collect } from './stack_cases.js';

collect().then((s) => process.stdout.write(`${JSON.stringify(s)}\n`));

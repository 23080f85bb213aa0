import { z } from 'zod';
import { defineTool } from './tool.ts';

/**
 * AutoGen's gallery `calculator(a, b, operator)`, with the same answers (errors are strings the
 * model reads), so the gallery's default team runs as-is.
 */
export const calculatorTool = defineTool({
  name: 'calculator',
  description: 'A simple calculator that performs basic arithmetic operations',
  parameters: z.object({
    a: z.number().describe('first operand'),
    b: z.number().describe('second operand'),
    operator: z.string().describe('one of +, -, *, /'),
  }),
  idempotent: true,
  requiresApproval: false,
  execute: ({ a, b, operator }) => {
    switch (operator) {
      case '+':
        return String(a + b);
      case '-':
        return String(a - b);
      case '*':
        return String(a * b);
      case '/':
        return b === 0 ? 'Error: Division by zero' : String(a / b);
      default:
        return 'Error: Invalid operator. Please use +, -, *, or /';
    }
  },
});

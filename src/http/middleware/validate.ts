import type { Request } from 'express';
import type { z } from 'zod';
import { parseInput } from '../../shared/validation';

/** Parses the JSON body; a missing body is validated as `{}` so schemas report what is missing. */
export const body = <S extends z.ZodType>(req: Request, schema: S): z.output<S> => parseInput(schema, req.body ?? {});
export const query = <S extends z.ZodType>(req: Request, schema: S): z.output<S> => parseInput(schema, req.query);
export const params = <S extends z.ZodType>(req: Request, schema: S): z.output<S> => parseInput(schema, req.params);

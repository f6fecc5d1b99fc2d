import { MemoryRateLimiter } from '../../../src/infra/rate-limiter';
import { rateLimiterSuite } from '../../helpers/rate-limiter-suite';

rateLimiterSuite('memory', (now) => new MemoryRateLimiter({ now }));

import { MemoryRateLimiter } from '../../../src/realtime/rate-limiter';
import { rateLimiterSuite } from '../../helpers/rate-limiter-suite';

rateLimiterSuite('memory', () => new MemoryRateLimiter());

// Configuration for the MikroORM CLI (`npx mikro-orm ...`); the server builds the same options itself.
import { loadConfig } from './src/config/config';
import { ormOptions } from './src/db/orm';

export default ormOptions(loadConfig(process.env));

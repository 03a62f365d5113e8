import type { Row, SqlExecutor } from '../sql/executor.js';
import { num, numOrNull } from '../sql/values.js';
import type { Clock } from './clock.js';

/** The life-cycle times of a stream key or token row. */
export function secretTimes(r: Row): { createdAt: number; lastUsedAt: number | null; revokedAt: number | null } {
  return { createdAt: num(r.created_at), lastUsedAt: numOrNull(r.last_used_at), revokedAt: numOrNull(r.revoked_at) };
}

/**
 * What stream keys and API tokens have in common: a row found by the digest of its secret,
 * revocable once, stamped when used. `table` and `hashColumn` are constants of the subclasses.
 */
export abstract class SecretRowRepository<T> {
  protected constructor(
    protected readonly sql: SqlExecutor,
    protected readonly clock: Clock,
    private readonly table: string,
    private readonly hashColumn: string,
    private readonly fromRow: (r: Row) => T,
  ) {}

  async get(id: string): Promise<T | undefined> {
    const [row] = await this.sql.query(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    return row && this.fromRow(row);
  }

  /** The unrevoked row with this digest: one lookup on the unique index. */
  async findActiveByHash(hash: string): Promise<T | undefined> {
    const [row] = await this.sql.query(`SELECT * FROM ${this.table} WHERE ${this.hashColumn} = $1 AND revoked_at IS NULL`, [hash]);
    return row && this.fromRow(row);
  }

  /** False when there is no such row or it was already revoked. */
  async revoke(id: string): Promise<boolean> {
    return (await this.sql.run(`UPDATE ${this.table} SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, [id, this.clock()])) > 0;
  }

  async markUsed(id: string): Promise<void> {
    await this.sql.run(`UPDATE ${this.table} SET last_used_at = $2 WHERE id = $1`, [id, this.clock()]);
  }

  /** The row just inserted by `sql` (… RETURNING *). */
  protected async insert(sql: string, params: (string | number | null)[]): Promise<T> {
    const [row] = await this.sql.query(sql, params);
    return this.fromRow(row);
  }
}

/** Expiry alerts as the API lists them: filtered, keyset-paginated by id. */
import type { NotificationRepository } from '../db/notifications.ts';
import type { NotificationFilter, NotificationRow } from '../domain/notifications.ts';
import { Keyset, type CursorCodec } from './cursor.ts';

export class NotificationService {
  constructor(
    private readonly repo: Pick<NotificationRepository, 'list'>,
    private readonly cursors: CursorCodec,
  ) {}

  async list(filter: NotificationFilter, perPage: number, cursor: string | undefined): Promise<{ rows: NotificationRow[]; nextCursor: string | undefined }> {
    const keyset = new Keyset(this.cursors, 'notifications:id', filter);
    return keyset.page(await this.repo.list(filter, perPage + 1, keyset.after(cursor)?.id), perPage);
  }
}

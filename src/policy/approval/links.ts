// The signed links of a held call, on the admin listener: `/approvals/<id>?action=approve&t=…`.
// Opening one shows the call and a button (a POST): a link fetched by a chat's preview or a mail
// scanner decides nothing.
import type { ApprovalBook } from './book.ts';

export const APPROVAL_LINK_PATH = '/approvals/';

export function approvalLinks(book: ApprovalBook, id: string): { approve: string; deny: string } | undefined {
  const base = book.linkBase;
  if (base === undefined) return undefined;
  const link = (action: 'approve' | 'deny') => `${base.replace(/\/$/, '')}${APPROVAL_LINK_PATH}${encodeURIComponent(id)}?action=${action}&t=${book.linkToken(id, action)}`;
  return { approve: link('approve'), deny: link('deny') };
}

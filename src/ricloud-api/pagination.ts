import { invalidParameter } from "./errors.ts";

const IdSchema = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * ricloud's list envelope with cursor pagination: newest first, `limit` (default 10, at most 1000),
 * `after_id` (older than that item) or `before_id` (newer than it). `has_more` says whether more
 * items lie beyond the page in the direction of travel; `total_count` counts every match.
 */
export function paginate<T extends { id: string }>(
  items: readonly T[],
  query: URLSearchParams,
  url: string,
  render: (item: T) => unknown,
): Record<string, unknown> {
  const rawLimit = query.get("limit");
  let limit = 10;
  if (rawLimit !== null) {
    if (!/^\d{1,4}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 1000)
      throw invalidParameter("limit", "must be a whole number from 1 to 1000");
    limit = Number(rawLimit);
  }
  const after = query.get("after_id");
  const before = query.get("before_id");
  if (after !== null && before !== null) throw invalidParameter("before_id", "use either after_id or before_id");
  const newest = [...items].reverse();
  const position = (param: string, id: string): number => {
    const index = IdSchema.test(id) ? newest.findIndex((item) => item.id === id) : -1;
    if (index < 0) throw invalidParameter(param, "no such item in this list");
    return index;
  };
  let page: T[];
  let hasMore: boolean;
  if (after !== null) {
    const start = position("after_id", after) + 1;
    page = newest.slice(start, start + limit);
    hasMore = start + limit < newest.length;
  } else if (before !== null) {
    const end = position("before_id", before);
    const start = Math.max(0, end - limit);
    page = newest.slice(start, end);
    hasMore = start > 0;
  } else {
    page = newest.slice(0, limit);
    hasMore = limit < newest.length;
  }
  return { resource: "list", data: page.map(render), has_more: hasMore, total_count: newest.length, url };
}

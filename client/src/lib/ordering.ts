/**
 * Moving one item of an ordered list: the positions to write so the list reads in the new
 * order. Only items whose position changes are returned (positions become 0, 1, 2, …).
 */
export function moveItem<T extends { rowId: string; position: number }>(
  items: T[],
  rowId: string,
  offset: -1 | 1,
): { rowId: string; position: number }[] {
  const from = items.findIndex((item) => item.rowId === rowId);
  const to = from + offset;
  if (from === -1 || to < 0 || to >= items.length) return [];
  const reordered = [...items];
  const [moved] = reordered.splice(from, 1);
  reordered.splice(to, 0, moved!);
  return reordered
    .map((item, index) => ({ rowId: item.rowId, position: index }))
    .filter(({ rowId: id, position }) => items.find((item) => item.rowId === id)!.position !== position);
}

// The arithmetic of the gallery's virtualized grid: which rows are on screen, where they sit.
// Only those rows exist in the DOM, so 10,000 items cost what 40 do.

export interface GridLayout {
  columns: number;
  cellSize: number;
  rowHeight: number;
}

/** Columns that fit `width` with cells at least `minCell` wide; cells then stretch to fill the row. */
export function layoutGrid(width: number, minCell: number, gap: number): GridLayout {
  const columns = Math.max(1, Math.floor((width + gap) / (minCell + gap)));
  const cellSize = Math.max(1, Math.floor((width - gap * (columns - 1)) / columns));
  return { columns, cellSize, rowHeight: cellSize + gap };
}

export interface VisibleRange {
  /** First and one-past-last item index to render. */
  start: number;
  end: number;
  /** Pixel offset of the first rendered row; total scroll height of the grid. */
  offsetTop: number;
  totalHeight: number;
}

export function visibleRange(
  layout: GridLayout,
  itemCount: number,
  scrollTop: number,
  viewportHeight: number,
  overscanRows = 2,
): VisibleRange {
  const rows = Math.ceil(itemCount / layout.columns);
  const totalHeight = rows * layout.rowHeight;
  const firstRow = Math.max(0, Math.floor(scrollTop / layout.rowHeight) - overscanRows);
  const lastRow = Math.min(rows, Math.ceil((scrollTop + viewportHeight) / layout.rowHeight) + overscanRows);
  return {
    start: Math.min(itemCount, firstRow * layout.columns),
    end: Math.min(itemCount, lastRow * layout.columns),
    offsetTop: firstRow * layout.rowHeight,
    totalHeight,
  };
}

/** The index reached by an arrow key in a grid, clamped to the items. */
export function moveInGrid(index: number, key: string, columns: number, count: number): number {
  const delta: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns, ArrowDown: columns };
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  const step = delta[key];
  if (step === undefined) return index;
  const next = index + step;
  return next < 0 || next >= count ? index : next;
}

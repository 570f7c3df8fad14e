import { describe, expect, it } from 'vitest';
import { layoutGrid, moveInGrid, visibleRange } from './virtual-grid.ts';

describe('virtual grid', () => {
  it('fits as many columns as the width allows and stretches the cells', () => {
    expect(layoutGrid(1000, 160, 8)).toEqual({ columns: 6, cellSize: 160, rowHeight: 168 });
    expect(layoutGrid(100, 160, 8).columns).toBe(1);
  });

  it('renders only the rows on screen plus overscan, even for 10,000 items', () => {
    const layout = { columns: 5, cellSize: 100, rowHeight: 100 };
    const range = visibleRange(layout, 10_000, 50_000, 800, 2);
    expect(range.totalHeight).toBe(2000 * 100);
    expect(range.start).toBe((500 - 2) * 5);
    expect(range.end).toBe((508 + 2) * 5);
    expect(range.end - range.start).toBeLessThanOrEqual(60);
    expect(range.offsetTop).toBe(498 * 100);
  });

  it('clamps at both ends', () => {
    const layout = { columns: 4, cellSize: 100, rowHeight: 100 };
    expect(visibleRange(layout, 10, 0, 1000)).toMatchObject({ start: 0, end: 10, offsetTop: 0 });
    expect(visibleRange(layout, 0, 0, 1000)).toMatchObject({ start: 0, end: 0, totalHeight: 0 });
  });

  it('moves with arrow keys and stays inside', () => {
    expect(moveInGrid(5, 'ArrowDown', 4, 20)).toBe(9);
    expect(moveInGrid(1, 'ArrowUp', 4, 20)).toBe(1);
    expect(moveInGrid(19, 'ArrowRight', 4, 20)).toBe(19);
    expect(moveInGrid(7, 'End', 4, 20)).toBe(19);
  });
});

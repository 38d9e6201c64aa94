/** Lifts per-axis values to three spatial axes (D, H, W) by prepending `fill`, so one loop nest
 * serves 1D, 2D and 3D. */
export function lift(values: readonly number[], fill: number): number[] {
  return [...Array(3 - values.length).fill(fill), ...values];
}

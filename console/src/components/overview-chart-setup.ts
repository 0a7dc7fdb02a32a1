/**
 * chart.js with only the pieces the Overview draws (bars, lines, category and linear axes,
 * tooltip, legend), registered once. overview-chart.tsx loads this module with a dynamic import,
 * so chart.js is a chunk of its own that the first paint does not wait for.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

export { Chart };

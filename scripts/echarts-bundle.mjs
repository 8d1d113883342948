// The ECharts our pages use, and nothing else: bar and line charts (Volume, Revenue, ROI), scatter
// on a geo map (ZIPs), with grid, tooltip and legend, drawn on canvas. Bundled by esbuild into
// public/vendor/echarts.min.js (scripts/vendor-assets.sh) as the page-global `echarts` that
// charming and app/src/components/chart.rs call (init, getInstanceByDom, registerMap, setOption).
// The full dist file is 1 MB; this is about half. A chart type or component not listed here is
// silently not drawn: add it here when a page starts using one.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, ScatterChart } from 'echarts/charts';
import { GeoComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, ScatterChart, GeoComponent, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);
window.echarts = echarts;

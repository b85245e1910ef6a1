// The ECharts that Sightline serves: only the charts and components its pages draw,
// bundled by esbuild (scripts/echarts.sh) into public/vendor/echarts.min.js as the
// global `echarts` that charming's WasmRenderer calls. A chart type or component a page
// starts to use must be added here (the end-to-end tests fail on an unregistered one).
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { LabelLayout } from 'echarts/features';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  LineChart,
  PieChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  LabelLayout,
  CanvasRenderer,
]);

globalThis.echarts = echarts;

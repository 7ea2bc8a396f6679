import { expect, it } from 'vitest';
import { htmlTable, renderHtmlReport, vegaLiteToSvg } from './index';

it('renders a Vega-Lite line chart to SVG and a self-contained page', async () => {
  const svg = await vegaLiteToSvg({
    data: { values: [{ epoch: 1, acc: 0.9 }, { epoch: 2, acc: 0.95 }] },
    mark: 'line',
    encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' } },
  });
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('<path');
  const html = renderHtmlReport({ title: 'R <1>', sections: [{ title: 'T', html: svg + htmlTable(['a'], [['<b>']]) }] });
  expect(html).toContain('R &lt;1&gt;');
  expect(html).toContain('&lt;b&gt;');
  expect(html).not.toMatch(/<script/);
});

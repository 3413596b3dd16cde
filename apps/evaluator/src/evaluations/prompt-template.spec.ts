import { renderTemplate, templateView } from './prompt-template.js';

describe('prompt templates', () => {
  it('renders input, expected, metadata fields and object inputs without HTML escaping', () => {
    const view = templateView({ input: { q: 'a < b?' }, expected: 'yes', metadata: { topic: 'logic & sets' } });
    expect(renderTemplate('{{input}} | {{input.q}} | {{expected}} | {{topic}} | {{metadata.topic}}', view)).toBe(
      '{"q":"a < b?"} | a < b? | yes | logic & sets | logic & sets',
    );
  });
});

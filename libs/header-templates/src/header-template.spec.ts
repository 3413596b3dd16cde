import { HeaderTemplate, HeaderTemplateError, headerTemplateErrors, type HeaderTemplateValues } from './header-template.js';

const values: HeaderTemplateValues = { user: 'svc-search', email: 'a@example.com', model: 'gpt-4o', request_id: 'req_1', api_key: 'sk-secret' };

describe('HeaderTemplate', () => {
  it('renders every known variable without HTML escaping', () => {
    const t = HeaderTemplate.compile('{{user}} <{{email}}> {{model}} {{request_id}} Bearer {{api_key}} & {{{user}}}');
    expect(t.render({ ...values, user: "o'brien&co" })).toBe("o'brien&co <a@example.com> gpt-4o req_1 Bearer sk-secret & o'brien&co");
  });

  it('leaves a value without braces as it is', () => {
    const t = HeaderTemplate.compile('static-value');
    expect(t.isTemplate).toBe(false);
    expect(t.render(values)).toBe('static-value');
  });

  it('strips CR, LF and other control characters a variable brings, so no header can be injected', () => {
    const t = HeaderTemplate.compile('user={{user}}');
    expect(t.render({ ...values, user: 'evil\r\nX-Admin: true\u0000' })).toBe('user=evilX-Admin: true');
  });

  it('refuses an unknown variable, naming it and the known ones', () => {
    expect(() => HeaderTemplate.compile('{{usr}}')).toThrow(HeaderTemplateError);
    expect(() => HeaderTemplate.compile('{{usr}}')).toThrow(/unknown variable \{\{usr\}\}.*\{\{user\}\}/);
  });

  it('refuses sections, partials and broken templates', () => {
    expect(() => HeaderTemplate.compile('{{#user}}x{{/user}}')).toThrow(/sections or partials/);
    expect(() => HeaderTemplate.compile('{{> p}}')).toThrow(/sections or partials/);
    expect(() => HeaderTemplate.compile('{{user')).toThrow(/not a valid Mustache template/);
  });

  it('lists every bad header by name', () => {
    expect(headerTemplateErrors({ 'X-Ok': '{{user}}', 'X-Bad': '{{nope}}', 'X-Plain': 'v' })).toEqual([{ header: 'X-Bad', message: expect.stringContaining('{{nope}}') }]);
  });
});

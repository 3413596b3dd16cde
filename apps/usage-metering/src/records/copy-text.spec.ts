import { copyField, copyLine, isStorableText } from './copy-text.js';

describe('COPY text format', () => {
  it('writes NULL as \\N and a plain value as it is', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('gpt-4o')).toBe('gpt-4o');
    expect(copyField('')).toBe('');
  });

  it('escapes the characters that would end a field or a row, and the backslash itself', () => {
    expect(copyField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    // A value that is the end-of-data marker on its own line is not one once escaped.
    expect(copyField('\\.')).toBe('\\\\.');
    // The literal text "\N" is a value, not NULL.
    expect(copyField('\\N')).toBe('\\\\N');
  });

  it('joins fields with tabs and ends the row with a newline', () => {
    expect(copyLine(['a', null, 'c\td'])).toBe('a\t\\N\tc\\td\n');
  });

  it('tells apart text Postgres cannot store: NUL and unpaired surrogates, not other characters', () => {
    expect(isStorableText('model-ü-😀-模型')).toBe(true);
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('a\ud800b')).toBe(false);
    expect(isStorableText('a\udc00')).toBe(false);
  });
});

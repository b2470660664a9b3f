import { countObjects, describe as describeFindings } from './local-vision.provider';

const box = { x: 0, y: 0, width: 10, height: 10 };

describe('local provider wording', () => {
  it('counts objects, most frequent first, with articles and plurals', () => {
    const sut = countObjects([
      { label: 'person', score: 0.9, box },
      { label: 'car', score: 0.6, box },
      { label: 'car', score: 0.7, box },
      { label: 'wine glass', score: 0.5, box },
      { label: 'wine glass', score: 0.5, box },
      { label: 'umbrella', score: 0.4, box },
    ]);

    expect(sut).toBe('two cars, two wine glasses, a person and an umbrella');
  });

  it('writes the summary from the statistics, the objects and the text', () => {
    const sut = describeFindings(
      'A bright, sharp landscape image dominated by blue.',
      [{ label: 'stop sign', score: 0.9, box }],
      [{ text: 'STOP', score: 0.99, box }],
    );

    expect(sut).toBe("A bright, sharp landscape image dominated by blue, with a stop sign; text: 'STOP'.");
  });

  it('keeps the statistics sentence when nothing was found', () => {
    expect(describeFindings('A dark image.', [], [])).toBe('A dark image.');
  });
});

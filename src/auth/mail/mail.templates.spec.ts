import { duration, renderMail } from './mail.templates';

describe('mail templates', () => {
  it('a plain-text and an HTML part around the one link, with how long it works', () => {
    const link = 'https://app.example.com/signin/reset?token=abc.def';
    const m = renderMail('password-reset', 'ada@example.com', link, 1800);
    expect(m).toMatchObject({ to: 'ada@example.com', subject: 'Reset your password', link });
    expect(m.text).toContain(`\n${link}\n`);
    expect(m.text).toContain('30 minutes and only once');
    expect(m.html).toContain(`<a href="${link}">Choose a new password</a>`);
    expect(renderMail('email-verification', 'ada@example.com', link, 86400).text).toContain('24 hours');
  });

  it('escapes the link in HTML', () => {
    const m = renderMail('email-verification', 'a@example.com', 'https://x.example/?a=1&b="<script>', 600);
    expect(m.html).toContain('href="https://x.example/?a=1&amp;b=&quot;&lt;script&gt;"');
    expect(m.html).not.toContain('<script>');
  });

  it('says durations in hours or minutes', () => {
    expect([duration(3600), duration(7200), duration(1800), duration(60), duration(90)]).toEqual(['1 hour', '2 hours', '30 minutes', '1 minute', '2 minutes']);
  });
});

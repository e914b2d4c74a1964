/**
 * The blocklist of common and breached passwords, compared against the NFKC-normalised,
 * lower-cased candidate. Two parts:
 *   1. LISTED: the most frequent passwords of 8+ characters from public breach-frequency lists
 *      (RockYou, the SecLists top lists), written out.
 *   2. Generated at load from BASE_WORDS (the frequent words, names, sports teams and keyboard
 *      runs that dominate those lists) combined with the suffixes and substitutions people use
 *      to pass composition rules ("1", "123", "!", years 1950-2030, "p@ssw0rd"-style leet), plus
 *      repeated and sequential digit runs. Only entries of 8-64 characters are kept (shorter
 *      ones fail the length rule anyway).
 * Reconstructed offline from the shape of those lists, not a verbatim copy: about 47,000 entries
 * (COMMON_PASSWORDS.size; a unit test pins the order of magnitude). It is no substitute for a
 * breached-password service (e.g. the HIBP k-anonymity range API), which this project does not
 * call: it must work offline.
 */
const LISTED = [

  'password',
  'password1',
  'password12',
  'password123',
  'password1234',
  'password!',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword',
  'pa$$word',
  '12345678',
  '123456789',
  '1234567890',
  '0987654321',
  '987654321',
  '87654321',
  '11111111',
  '111111111',
  '1111111111',
  '00000000',
  '22222222',
  '55555555',
  '66666666',
  '88888888',
  '99999999',
  '999999999',
  '12121212',
  '12341234',
  '12344321',
  '11223344',
  '123123123',
  '147258369',
  '123654789',
  '789456123',
  '741852963',
  '159753456',
  '1q2w3e4r',
  '1q2w3e4r5t',
  'q1w2e3r4',
  'q1w2e3r4t5',
  '1qaz2wsx',
  '1qazxsw2',
  'zaq12wsx',
  'qazwsxedc',
  'qweasdzxc',
  '123qweasd',
  'qwertyuiop',
  'qwertyui',
  'qwerty12',
  'qwerty123',
  'qwerty1234',
  'qwerty123456',
  '123456qwerty',
  '1234qwer',
  'azertyuiop',
  'asdfghjkl',
  'asdfasdf',
  'zxcvbnm1',
  'abc12345',
  'abcd1234',
  '1234abcd',
  'abcdefgh',
  'aaaaaaaa',
  'qqqqqqqq',
  'iloveyou',
  'iloveyou1',
  'iloveyou2',
  'lovelove',
  'loveyou1',
  'sunshine',
  'sunshine1',
  'princess',
  'princess1',
  'football',
  'football1',
  'baseball',
  'baseball1',
  'superman',
  'starwars',
  'trustno1',
  'welcome1',
  'welcome123',
  'letmein1',
  'letmein123',
  'admin123',
  'administrator',
  'changeme',
  'changeme123',
  'computer',
  'internet',
  'whatever',
  'michelle',
  'jennifer',
  'corvette',
  'mercedes',
  'mustang1',
  'liverpool',
  'chocolate',
  'butterfly',
  'danielle',
  'monkey123',
  'dragon123',
  'shadow123',
  'master123',
  'secret123',
];

const BASE_WORDS = `
password passw0rd p@ssword p@ssw0rd pass pass1 letmein welcome welcome1 admin administrator root login
qwerty qwertz azerty qwert asdf asdfgh asdfghjkl zxcvbn zxcvbnm qazwsx qwer1234 1qaz2wsx zaq1 zaq12wsx
iloveyou iloveu loveme lovely love lover loveyou mylove baby babygirl babyboy sweet sweety sweetheart honey
princess prince angel angels dragon dragons monkey monkeys shadow master sunshine summer winter spring autumn
football soccer baseball basketball hockey tennis golf golfer cricket rugby boxing
superman batman spiderman ironman pokemon pikachu naruto starwars startrek matrix hunter ranger killer
michael jennifer jessica ashley amanda daniel david robert thomas charlie andrew joshua matthew jordan
michelle nicole hannah samantha elizabeth taylor justin brandon william richard joseph christopher anthony
george jonathan alexander alexandra benjamin natalie victoria stephanie rebecca melissa jasmine chris
maggie ginger pepper buster tigger bailey buddy max molly lucky rocky coco teddy oliver jack
freedom secret whatever trustno1 access master1 hello hello123 hello1 test test123 testing guest default
computer internet google yahoo facebook youtube twitter linkedin myspace microsoft windows apple samsung
orange banana cherry apple123 chocolate cookie cookies cheese pizza coffee
purple yellow silver golden diamond crystal rainbow flower flowers butterfly forever friends friend family
chelsea arsenal liverpool manchester barcelona madrid juventus milan united dallas yankees cowboys lakers
mustang corvette ferrari porsche mercedes harley yamaha
jesus jesus1 christ god godisgood blessed heaven
money dollar cash million rich poor
abc abcd abcdef abcdefg abc123 qwe123 asd123 zxc123 qweasd qweasdzxc
america canada london paris berlin moscow china india brazil mexico
monday friday sunday january december
michael1 jordan23 batman1 superman1 iloveyou1 princess1 sunshine1 football1 baseball1 shadow1 master12
blink182 eminem metallica nirvana beatles
tinkerbell cheyenne anthony1 justinbieber onedirection
changeme changeit temp temp123 sample demo user user123 company office work
zxcasdqwe q1w2e3r4 1q2w3e4r 1q2w3e q1w2e3 12qwaszx 1qazxsw2 zaq1xsw2 qwerasdf
`.split(/\s+/).filter(Boolean);

const SUFFIXES = ['', '1', '2', '12', '13', '69', '99', '01', '007', '11', '123', '1234', '12345', '123456', '321', '!', '!!', '1!', '123!', '@', '#', '.', '*', '!@#'];

function leet(w: string): string {
  return w.replace(/a/g, '@').replace(/o/g, '0').replace(/e/g, '3').replace(/i/g, '1').replace(/s/g, '$');
}

function generate(): Set<string> {
  const out = new Set<string>();
  const keep = (p: string) => {
    if (p.length >= 8 && p.length <= 64) out.add(p);
  };
  for (const w of LISTED) keep(w);
  for (const word of BASE_WORDS) {
    const forms = new Set([word, leet(word)]);
    if (word.length <= 6) forms.add(word + word);
    for (const w of forms) for (const s of SUFFIXES) keep(w + s);
    for (let y = 1970; y <= 2030; y++) {
      keep(word + y);
      keep(word + String(y).slice(2));
    }
  }
  // Digit runs: repeated, ascending, descending, and pairs/triples repeated.
  for (let len = 8; len <= 16; len++) {
    for (let d = 0; d <= 9; d++) keep(String(d).repeat(len));
    let up = '';
    let down = '';
    for (let i = 0; i < len; i++) {
      up += String((i + 1) % 10);
      down += String((9 - i + 10) % 10);
    }
    keep(up);
    keep(down);
    keep('0' + up.slice(0, len - 1));
  }
  for (let n = 0; n < 1000; n++) {
    const unit = String(n);
    for (let r = 2; r <= 4; r++) keep(unit.repeat(r));
  }
  // Dates as passwords: ddmmyyyy and mmddyyyy for the last century.
  for (let y = 1940; y <= 2025; y += 1) {
    for (const md of ['0101', '1225', '1231', '0704', '1111', '1212', '0214']) {
      keep(md + y);
      keep(y + md);
    }
  }
  return out;
}

export const COMMON_PASSWORDS: ReadonlySet<string> = generate();

// Drives the npm package `akismet-api`, unmodified, against this service: only its options (key, blog,
// host, protocol) are configured.  It puts the key in the host name (KEY.localhost:PORT), as against
// rest.akismet.com.  Prints one JSON object with what each call answered; tests/test_compat_akismet_npm.py
// checks it.
const { AkismetClient } = require('akismet-api')

async function main() {
  const [host, key, spamText, hamText] = process.argv.slice(2)
  const client = new AkismetClient({ key, blog: 'https://blog.example', host, protocol: 'http' })
  const out = {}
  out.verify = await client.verifyKey()
  const comment = {
    ip: '203.0.113.9',
    useragent: 'Mozilla/5.0',
    referrer: 'https://search.example/',
    permalink: 'https://blog.example/post/1',
    type: 'comment',
    name: 'Ann Reader',
    email: 'ann@example.org',
    url: 'https://ann.example',
    date: '2026-12-02T10:00:00Z',
    lang: 'en'
  }
  out.ham = await client.checkSpam({ ...comment, content: hamText })
  out.spam = await client.checkSpam({ ...comment, content: spamText })
  out.guaranteed = await client.checkSpam({ ...comment, name: 'akismet-guaranteed-spam', content: 'hello' })
  out.submitSpam = (await client.submitSpam({ ...comment, content: spamText })).text
  out.submitHam = (await client.submitHam({ ...comment, content: hamText })).text
  const wrong = new AkismetClient({ key: 'mk' + 'z'.repeat(52), blog: 'https://blog.example', host, protocol: 'http' })
  out.wrongVerify = await wrong.verifyKey()
  try {
    await wrong.checkSpam({ ...comment, content: hamText })
    out.wrongCheck = 'no error'
  } catch (err) {
    out.wrongCheck = err.message
  }
  try {
    await client.checkSpam({ content: hamText }) // no user_ip: Akismet's debug help becomes the error
    out.missing = 'no error'
  } catch (err) {
    out.missing = err.message
  }
  console.log(JSON.stringify(out))
}

main().catch(err => {
  console.error(err && err.stack ? err.stack : String(err))
  process.exit(1)
})

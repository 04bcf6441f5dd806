import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { secretKey, signatureOf, signedHeaders } from './signature';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

describe('Standard Webhooks signatures', () => {
  test('match the reference example of the spec’s implementations', () => {
    // The example the Standard Webhooks / Svix libraries are tested with.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(signatureOf(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  test('verify with the standardwebhooks package (the receiving side)', () => {
    const secret = newSecret();
    const body = JSON.stringify({ type: 'assessment.completed', timestamp: new Date().toISOString(), data: { a: 1 } });
    const headers = signedHeaders([secret], 'f3b0c0a6-1111-4c4c-8888-000000000001', body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  test('carry one signature per active secret, each verifying on its own', () => {
    const [next, previous] = [newSecret(), newSecret()];
    const body = '{"type":"webhook.test"}';
    const headers = signedHeaders([next, previous], 'id-1', body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(next).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(newSecret()).verify(body, { ...headers })).toThrow(WebhookVerificationError);
  });

  test('fail for a tampered body, another id or a stale timestamp', () => {
    const secret = newSecret();
    const body = '{"type":"assessment.failed","data":{"reason":"x"}}';
    const headers = signedHeaders([secret], 'id-2', body);
    const hook = new Webhook(secret);
    expect(() => hook.verify(body.replace('x', 'y'), { ...headers })).toThrow(WebhookVerificationError);
    expect(() => hook.verify(body, { ...headers, 'webhook-id': 'id-3' })).toThrow(WebhookVerificationError);
    const stale = signedHeaders([secret], 'id-2', body, new Date(Date.now() - 10 * 60_000));
    expect(() => hook.verify(body, { ...stale })).toThrow(/too old/i);
  });

  test('the timestamp is the attempt’s Unix seconds', () => {
    const at = new Date('2026-03-01T10:00:00.750Z');
    expect(signedHeaders([newSecret()], 'id', '{}', at)['webhook-timestamp']).toBe(String(at.getTime() / 1000 - 0.75));
  });

  test('refuse a secret that is not whsec_ and base64', () => {
    expect(() => secretKey('sk_abc')).toThrow(/whsec_/);
    expect(() => secretKey('whsec_not base64!')).toThrow(/base64/);
    expect(() => signedHeaders([], 'id', '{}')).toThrow(/No signing secret/);
  });
});

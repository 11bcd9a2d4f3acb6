import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { AuthError, bearerToken, createJwtVerifier, jwtConfigSchema } from './jwt.js';

describe('jwt verifier', () => {
  let server: http.Server;
  let url = '';
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  beforeAll(async () => {
    keys = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('verifies against a JWKS URL and returns tenants and subject', async () => {
    const v = await createJwtVerifier(jwtConfigSchema.parse({ jwks_url: url, issuer: 'https://login.example', tenant_claim: 'projects' }));
    const token = await new SignJWT({ projects: ['a', 'b'], sub: 'ann' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://login.example').setExpirationTime('5m').sign(keys.privateKey);
    expect(await v.verify(token)).toMatchObject({ tenants: ['a', 'b'], subject: 'ann' });
    const wrongIssuer = await new SignJWT({ projects: 'a' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://evil').setExpirationTime('5m').sign(keys.privateKey);
    await expect(v.verify(wrongIssuer)).rejects.toThrow(/"iss"/);
    const unknownKid = await new SignJWT({ projects: 'a' }).setProtectedHeader({ alg: 'ES256', kid: 'nope' }).setIssuer('https://login.example').setExpirationTime('5m').sign(keys.privateKey);
    await expect(v.verify(unknownKid)).rejects.toThrow(AuthError);
  });

  it('a secret accepts only HMAC algorithms, never none', async () => {
    const v = await createJwtVerifier(jwtConfigSchema.parse({ secret: 's3cret-s3cret-s3cret-s3cret-s3cret' }));
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"project":"a"}').toString('base64url')}.`;
    await expect(v.verify(none)).rejects.toThrow(/unsigned|algorithm/);
    await expect(v.verify('not a token')).rejects.toThrow(AuthError);
    const ok = await new SignJWT({ project: 'a' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('s3cret-s3cret-s3cret-s3cret-s3cret'));
    expect((await v.verify(ok)).tenants).toEqual(['a']);
  });

  it('reads the bearer token of an Authorization header', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer   x ')).toBe('x');
    expect(bearerToken('Basic x')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

import { expect } from 'chai';
import { parseResponse, requestBytes } from '../../../scripts/bench/lib/raw-http.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('bench raw HTTP client', () => {
  it('parses a Content-Length response and says how many bytes it used', () => {
    const res = b('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nHello WorldHTTP/1.1 204');
    const p = parseResponse(res)!;
    expect(p.status).to.equal(200);
    expect(Buffer.concat(p.body).toString()).to.equal('Hello World');
    expect(p.consumed).to.equal(res.indexOf('HTTP/1.1 204'));
    expect(p.close).to.equal(false);
  });

  it('waits for the rest of a partial response', () => {
    expect(parseResponse(b('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nHello'))).to.equal(undefined);
    expect(parseResponse(b('HTTP/1.1 200 OK\r\nContent-Len'))).to.equal(undefined);
    expect(parseResponse(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n'))).to.equal(undefined);
  });

  it('parses chunked bodies, with and without trailers', () => {
    const chunked = 'HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n5\r\nHello\r\n6\r\n World\r\n0\r\n\r\n';
    const p = parseResponse(b(chunked))!;
    expect(p.status).to.equal(201);
    expect(Buffer.concat(p.body).toString()).to.equal('Hello World');
    expect(p.consumed).to.equal(chunked.length);
    const trailers = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n';
    expect(parseResponse(b(trailers))!.consumed).to.equal(trailers.length);
  });

  it('knows responses without a body and Connection: close', () => {
    const p = parseResponse(b('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'))!;
    expect(p.status).to.equal(204);
    expect(p.body).to.deep.equal([]);
    expect(p.close).to.equal(true);
  });

  it('rejects what is not an HTTP response', () => {
    expect(() => parseResponse(b('SSH-2.0-OpenSSH\r\n\r\n'))).to.throw(/not an HTTP response/);
  });

  it('builds requests with a byte-exact Content-Length', () => {
    const body = '{"tag":"ünï"}';
    const req = requestBytes('POST', '/seen', '127.0.0.1:3000', 'content-type: application/json\r\n', body).toString();
    expect(req).to.equal(
      `POST /seen HTTP/1.1\r\nhost: 127.0.0.1:3000\r\nconnection: keep-alive\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    expect(requestBytes('GET', '/', 'h', '')).to.equal('GET / HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\n\r\n');
  });
});

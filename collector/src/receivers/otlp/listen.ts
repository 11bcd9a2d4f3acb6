/** Bound address reporting and listen errors shared by both servers. */

export interface BoundAddress {
  host: string;
  port: number;
}

/** An error naming the receiver, the transport and the endpoint, with a hint for the usual causes. */
export function listenError(receiverId: string, transport: 'http' | 'grpc', endpoint: string, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code;
  let hint = '';
  if (code === 'EADDRINUSE' || /EADDRINUSE/.test(err.message)) hint = ' (EADDRINUSE: the port is already in use)';
  else if (code === 'EACCES' || /EACCES/.test(err.message)) hint = ' (EACCES: not allowed to bind this port)';
  else if (code === 'EADDRNOTAVAIL' || /EADDRNOTAVAIL/.test(err.message)) hint = ' (EADDRNOTAVAIL: no such local address)';
  return new Error(`otlp receiver ${receiverId}: cannot listen for ${transport} on ${endpoint}${hint}: ${err.message}`, { cause: err });
}

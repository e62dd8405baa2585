// Config of TLS on a listener (`listen.tls`, `admin.tls`): certificate and key files, an optional
// client CA (mutual TLS) and the oldest protocol version accepted. Paths are relative to the
// config file. The files are read and checked at start, and again whenever they change.
import { z } from 'zod';

export const TlsSchema = z
  .strictObject({
    cert: z
      .string()
      .min(1)
      .meta({ description: 'PEM file with the server certificate, followed by its intermediate certificates (the chain, leaf first; e.g. certbot\'s fullchain.pem). Relative to the config file. Reloaded when it changes.' }),
    key: z.string().min(1).meta({ description: 'PEM file with the certificate\'s private key (unencrypted; PKCS#8, PKCS#1 or SEC1). Relative to the config file. Reloaded when it changes.' }),
    ca: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Mutual TLS: PEM file with the CA certificate(s) that client certificates must be signed by; a client without such a certificate is refused during the handshake. Relative to the config file. Default: no client certificate asked for. Turning mutual TLS on or off takes effect on restart.' }),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').meta({ description: 'Oldest TLS version accepted.' }),
  })
  .meta({ description: 'Serve HTTPS with these certificate and key files. New contents of the files (they are watched, and read again on SIGHUP) and changed paths apply without a restart and without dropping connections; a certificate and key that do not match are refused and the current pair kept. Turning TLS on or off takes effect on restart.' });

export type TlsConfig = z.output<typeof TlsSchema>;

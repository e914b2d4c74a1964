import { Header } from '@nestjs/common';

/**
 * Class decorator: every route of the controller answers `Cache-Control: no-store` (tokens and
 * session data must never sit in a cache; errors get it from the problem+json filter). Nest sets a
 * route's @Header once its guards have passed, so this costs one setHeader. In place of a
 * middleware: Nest mounts a middleware as one Express layer per route, which every request of the
 * application then walks past, and runs it through a wrapper on the routes it matches.
 * Covers the methods the class itself declares (class decorators run after its method decorators);
 * inherited routes are not touched.
 */
export function NoStore(): ClassDecorator {
  return (target) => {
    const proto = (target as unknown as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (name === 'constructor' || typeof descriptor?.value !== 'function') continue;
      Header('Cache-Control', 'no-store')(proto, name, descriptor);
    }
  };
}

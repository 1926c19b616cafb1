/**
 * Dynamic namespaces' matching, as Socket.IO 4.8's `io.of(regex | fn)` and `_checkNamespace`:
 * each parent is asked in declaration order, a refusal or an error passes to the next one, and
 * the first that allows the name creates the child. No parent allows it: "Invalid namespace".
 */

/** Socket.IO's `ParentNspNameMatchFn`: `next(null, true)` allows `name`, with the CONNECT's `auth`. */
export type NamespaceMatcher = (
  name: string,
  // biome-ignore lint/suspicious/noExplicitAny: Socket.IO types the CONNECT's auth as { [key: string]: any }
  auth: { [key: string]: any },
  next: (error: Error | null, allow: boolean) => void,
) => void;

export interface ParentSpec {
  matcher: NamespaceMatcher;
  /** Set for `io.of(/regex/)`: `io.of(name)` of a matching name attaches to this parent. */
  regex?: RegExp;
}

export function parentSpecOf(name: RegExp | NamespaceMatcher): ParentSpec {
  if (typeof name === "function") return { matcher: name };
  // A global or sticky RegExp keeps lastIndex between tests: the same name would match or not.
  if (name.global || name.sticky) throw new Error("stateful regular expressions are not supported");
  return { matcher: (nsp, _auth, next) => next(null, name.test(nsp)), regex: name };
}

/**
 * The index of the first matcher that allows `name`, or undefined. A matcher that throws
 * counts as a refusal (logged): Socket.IO would crash the process, here no other socket may suffer.
 */
export async function runMatchers(
  matchers: readonly NamespaceMatcher[],
  name: string,
  auth: Record<string, unknown>,
): Promise<number | undefined> {
  for (let index = 0; index < matchers.length; index++) {
    const allowed = await new Promise<boolean>((resolve) => {
      try {
        matchers[index](name, auth, (error, allow) => resolve(!error && Boolean(allow)));
      } catch (error) {
        console.error(`edgeio: namespace matcher ${index} threw for ${name}`, error);
        resolve(false);
      }
    });
    if (allowed) return index;
  }
  return undefined;
}

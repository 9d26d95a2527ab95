/**
 * `build(key)` made once per key and remembered for as long as the key lives: for parts built from
 * a process's Services (or its Db) on first use rather than at start-up.
 */
export function oncePer<K extends object, V>(build: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = build(key);
      made.set(key, value);
    }
    return value;
  };
}

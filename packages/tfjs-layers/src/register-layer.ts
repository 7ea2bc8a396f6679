import * as tf from '@tensorflow/tfjs-core';

/** A class tfjs can (de)serialize: a constructor with a static `className` and `fromConfig`. */
type SerializableClass = tf.serialization.SerializableConstructor<tf.serialization.Serializable>;

/**
 * Registers `cls` with `tf.serialization.registerClass` unless a class of the same `className` is
 * registered already, so that loading this package twice (two bundles, or a second copy in
 * `node_modules`) neither throws nor replaces the first copy's class: models saved by either copy
 * load with the first. Returns `cls`.
 *
 * @example
 * ```ts
 * registerLayerOnce(BcopConv2d); // `tf.loadLayersModel` now rebuilds 'BcopConv2d' layers
 * ```
 */
export function registerLayerOnce<T extends SerializableClass>(cls: T): T {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  if (!(cls.className in map)) tf.serialization.registerClass(cls);
  return cls;
}

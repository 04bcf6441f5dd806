import { murmur2, partitionForKey } from './murmur2';

// Vectors from Kafka's own tests (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2).
const kafkaVectors: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

describe('murmur2 as Kafka computes it', () => {
  test.each(kafkaVectors)('murmur2(%s) = %d', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  test('partition = toPositive(murmur2) % partitions', () => {
    // toPositive(-973932308) = -973932308 & 0x7fffffff = 1173551340; % 6 = 0
    expect(partitionForKey('21', 6)).toBe((-973932308 & 0x7fffffff) % 6);
    expect(partitionForKey('abc', 6)).toBe(479470107 % 6);
    for (const [key] of kafkaVectors) {
      const p = partitionForKey(key, 12);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(12);
    }
  });

  test('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionForKey('x', 0)).toThrow(/partition count/);
  });
});

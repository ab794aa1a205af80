// "Did you mean ...?" for every name a user can misspell: keywords, stages, plugins, options.
// Damerau-Levenshtein (optimal string alignment: one transposition counts as one edit, so `stgae`
// is one edit from `stage`), compared case-insensitively, with a threshold that grows with the
// length of the word, so a short word is never "corrected" into an unrelated short word.

/**
 * The candidate closest to `word`, or undefined when none is close enough. Ties go to the
 * candidate that also matches case more closely, then to the earlier candidate.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  // Nobody misspells a name this long by hand; bounding it bounds the quadratic distance.
  if (word.length > MAX_WORD) return undefined;
  const limit = maxDistance(word.length);
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  let bestCaseDistance = Infinity;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > limit) continue;
    const distance = editDistance(lower, candidate.toLowerCase(), limit);
    if (distance > limit || distance > bestDistance) continue;
    const caseDistance = editDistance(word, candidate);
    if (distance < bestDistance || caseDistance < bestCaseDistance) {
      best = candidate;
      bestDistance = distance;
      bestCaseDistance = caseDistance;
    }
  }
  return best;
}

const MAX_WORD = 100;

/** Edits allowed for a word of this length: none but case below 3 characters, then a third. */
function maxDistance(length: number): number {
  if (length < 3) return 0;
  return Math.max(1, Math.floor(length / 3));
}

/**
 * Optimal-string-alignment distance between a and b. Gives up early (returning limit + 1) once every
 * cell of a row exceeds `limit`, so a long word against many candidates stays cheap.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (a === b) return 0;
  const n = b.length;
  let before = new Array<number>(n + 1).fill(0); // row i-2
  let previous = Array.from({ length: n + 1 }, (_, j) => j); // row i-1
  let current = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, before[j - 2]! + 1);
      }
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > limit) return limit + 1;
    [before, previous, current] = [previous, current, before];
  }
  return previous[n]!;
}

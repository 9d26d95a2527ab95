/**
 * What a NOT NULL knowledge_area holds for an attempt whose event had none (ExerciseCompleted v0,
 * or a failure): answered as null by the progress endpoint.
 */
export const NO_KNOWLEDGE_AREA = '';

export function knowledgeAreaOut(stored: string | null): string | null {
  return stored === null || stored === NO_KNOWLEDGE_AREA ? null : stored;
}

// Keyboard shortcuts, one table: the handler and the hints shown in the UI read the same entries.
export interface Shortcut {
  id: 'generate' | 'cancel' | 'reroll' | 'search' | 'tab-create' | 'tab-gallery' | 'tab-queue' | 'tab-models' | 'tab-settings';
  keys: string;
  description: string;
  matches(event: KeyboardEvent): boolean;
}

const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;

export const SHORTCUTS: readonly Shortcut[] = [
  { id: 'generate', keys: 'Ctrl/⌘+Enter', description: 'Generate', matches: (e) => mod(e) && e.key === 'Enter' },
  { id: 'cancel', keys: 'Esc', description: 'Cancel the running job', matches: (e) => e.key === 'Escape' && !mod(e) },
  { id: 'reroll', keys: 'Ctrl/⌘+R', description: 'New random seed', matches: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'r' },
  { id: 'search', keys: 'Ctrl/⌘+F', description: 'Search the gallery', matches: (e) => mod(e) && e.key.toLowerCase() === 'f' },
  { id: 'tab-create', keys: 'Alt+1', description: 'Create', matches: (e) => e.altKey && e.key === '1' },
  { id: 'tab-gallery', keys: 'Alt+2', description: 'Gallery', matches: (e) => e.altKey && e.key === '2' },
  { id: 'tab-queue', keys: 'Alt+3', description: 'Queue', matches: (e) => e.altKey && e.key === '3' },
  { id: 'tab-models', keys: 'Alt+4', description: 'Models', matches: (e) => e.altKey && e.key === '4' },
  { id: 'tab-settings', keys: 'Alt+5', description: 'Settings', matches: (e) => e.altKey && e.key === '5' },
];

export function findShortcut(event: KeyboardEvent): Shortcut | undefined {
  return SHORTCUTS.find((s) => s.matches(event));
}

export function keysFor(id: Shortcut['id']): string {
  return SHORTCUTS.find((s) => s.id === id)?.keys ?? '';
}

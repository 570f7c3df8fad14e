import { describe, expect, it } from 'vitest';
import { defaultExportPath } from './export-path.ts';

describe('defaultExportPath', () => {
  const now = new Date('2026-03-04T05:06:07Z');
  it('puts a dated zip in the data folder, with its own separator', () => {
    expect(defaultExportPath('/home/ana/.config/YOSO Studio/', now)).toBe('/home/ana/.config/YOSO Studio/exports/yoso-20260304-0506.zip');
    expect(defaultExportPath('C:\\Users\\ana\\AppData\\Roaming\\YOSO Studio', now)).toBe('C:\\Users\\ana\\AppData\\Roaming\\YOSO Studio\\exports\\yoso-20260304-0506.zip');
  });
});

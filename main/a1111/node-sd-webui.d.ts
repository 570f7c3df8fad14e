// node-sd-webui ships typings its package.json "exports" does not expose; the part the tests use.
declare module 'node-sd-webui' {
  interface Txt2ImgOptions {
    prompt: string;
    negativePrompt?: string;
    seed?: number;
    samplingMethod?: string;
    batchSize?: number;
    batchCount?: number;
    steps?: number;
    width?: number;
    height?: number;
    cfgScale?: number;
  }
  interface ImageResponse {
    images: string[];
    parameters: Record<string, unknown>;
    info: string;
  }
  interface PngInfoResponse {
    prompt: string;
    negativePrompt?: string;
    steps: number;
    samplingMethod: string;
    cfgScale: number;
    seed: number;
    width: number;
    height: number;
    modelHash: string;
    model: string;
  }
  interface Client {
    apiUrl: string;
    txt2img(options: Txt2ImgOptions): Promise<ImageResponse>;
    pngInfo(options: { imageData: string }): Promise<PngInfoResponse>;
  }
  export default function sdwebui(props?: { apiUrl?: string }): Client;
}

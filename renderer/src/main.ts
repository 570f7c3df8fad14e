import './zod-config.ts';
import { mount } from 'svelte';
import App from './App.svelte';
import { pickClient } from './api/pick-client.ts';
import { Studio } from './lib/studio.svelte.ts';
import './styles.css';

const studio = new Studio(pickClient(), { storage: localStorage });
mount(App, { target: document.getElementById('app')!, props: { studio } });
void studio.start();

// Entry point: choose the language, then render the app.

import { render } from 'preact';
import { detectLang, setLang } from './i18n';
import { storage } from './storage';
import { App } from './ui/App';
import './styles/base.css';
import './styles/pages.css';
import './styles/meeting.css';
import './styles/panels.css';
import './styles/e2ee.css';
import './styles/layout.css';
import './styles/reconnect.css';

const lang = detectLang(storage.lang(), navigator.languages ?? [navigator.language]);
setLang(lang);
document.documentElement.lang = lang;

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}

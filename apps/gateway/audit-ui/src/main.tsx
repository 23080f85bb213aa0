import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiKey } from './api.ts';
import { KeyForm } from './key-form.tsx';
import { SessionList } from './session-list.tsx';
import { SessionView } from './session-view.tsx';

/** `#/sessions/<id>` opens a session; anything else is the list. The fragment never reaches a server. */
const sessionInHash = (): string | null => {
  const match = /^#\/sessions\/(.+)$/.exec(location.hash);
  return match?.[1] === undefined ? null : decodeURIComponent(match[1]);
};

const App = () => {
  const [hasKey, setHasKey] = useState(apiKey.get() !== null);
  const [sessionId, setSessionId] = useState(sessionInHash());
  useEffect(() => {
    const onHash = () => setSessionId(sessionInHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const forget = () => {
    apiKey.clear();
    setHasKey(false);
  };
  return (
    <>
      <header class="bar">
        <a class="brand" href="#/">
          AgentLedger <span>audit</span>
        </a>
        {hasKey && (
          <button type="button" class="link" onClick={forget}>
            Forget key
          </button>
        )}
      </header>
      <main>
        {!hasKey ? (
          <KeyForm onSaved={() => setHasKey(true)} />
        ) : sessionId === null ? (
          <SessionList onUnauthorized={forget} />
        ) : (
          <SessionView sessionId={sessionId} onUnauthorized={forget} />
        )}
      </main>
    </>
  );
};

render(<App />, document.getElementById('app')!);

import { useEffect } from 'preact/hooks';
import { ChannelPage } from './pages/channel.js';
import { ChannelsPage } from './pages/channels.js';
import { AnalyticsPage } from './pages/analytics.js';
import { OperationsPage } from './pages/operations.js';
import { href, useRoute, type Route } from './router.js';
import { useSession } from './session.js';
import { NoticeLine } from './ui/notice.js';

const TITLES: Record<Route['page'], string> = { channels: 'Channels', channel: 'Channel', analytics: 'Analytics', operations: 'Operations' };

/** The frame of every page: navigation, who is signed in, the status line, the page. */
export function Layout() {
  const route = useRoute();
  const session = useSession();
  const title = route.page === 'channel' ? `Channel ${route.id}` : TITLES[route.page];
  useEffect(() => { document.title = `${title} · Sigma Live console`; }, [title]);
  const current = (page: Route['page']) => (route.page === page || (page === 'channels' && route.page === 'channel') ? 'page' : undefined);

  return (
    <>
      <a class="skip" href="#main">Skip to the page</a>
      <header class="top">
        <strong class="brand">Sigma Live</strong>
        <nav aria-label="Console">
          <a href={href.channels} aria-current={current('channels')}>Channels</a>
          <a href={href.analytics} aria-current={current('analytics')}>Analytics</a>
          <a href={href.operations} aria-current={current('operations')}>Operations</a>
        </nav>
        <span class="who" data-testid="who">
          {session.token.name} · {session.token.scopes.join(', ')}
          <button type="button" class="link" onClick={session.signOut}>Sign out</button>
        </span>
      </header>
      <NoticeLine />
      <main id="main" tabIndex={-1}>
        {route.page === 'channels' && <ChannelsPage />}
        {route.page === 'channel' && <ChannelPage id={route.id} />}
        {route.page === 'analytics' && <AnalyticsPage />}
        {route.page === 'operations' && <OperationsPage />}
      </main>
    </>
  );
}

/**
 * The routes. The public status page is its own light bundle: no GraphQL client, no session.
 * Everything else (landing page, sign-in, dashboard) loads with the session.
 */
import { lazy, Suspense } from "react";
import { BrowserRouter, Route, Routes } from "react-router";
import { Loading } from "./ui/Loading.tsx";

const StatusPage = lazy(() => import("./features/statusPage/StatusPage.tsx").then((m) => ({ default: m.StatusPage })));
const StatusPageResolver = lazy(() =>
  import("./features/statusPage/StatusPageResolver.tsx").then((m) => ({ default: m.StatusPageResolver })),
);
const Dashboard = lazy(() => import("./features/shell/Dashboard.tsx").then((m) => ({ default: m.Dashboard })));

export function App() {
  return (
    <BrowserRouter>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/status" element={<StatusPageResolver />} />
          <Route path="/status/:slug" element={<StatusPage />} />
          <Route path="*" element={<Dashboard />} />
        </Routes>
      </Suspense>
    </BrowserRouter>
  );
}

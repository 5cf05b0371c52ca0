import { lazy } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { Layout } from './Layout';
import { Login } from '../screens/Login';

// Each screen is its own chunk: the first load carries only the frame and the sign-in form.
const Dashboard = lazy(() => import('../screens/Dashboard'));
const Stats = lazy(() => import('../screens/Stats'));
const DeliveryLog = lazy(() => import('../screens/DeliveryLog'));
const MessageTimeline = lazy(() => import('../screens/MessageTimeline'));
const OperationLog = lazy(() => import('../screens/OperationLog'));
const Tenants = lazy(() => import('../screens/Tenants'));
const TenantDetail = lazy(() => import('../screens/TenantDetail'));
const Domains = lazy(() => import('../screens/Domains'));
const DomainDetail = lazy(() => import('../screens/DomainDetail'));
const Lists = lazy(() => import('../screens/Lists'));
const ListDetail = lazy(() => import('../screens/ListDetail'));
const Templates = lazy(() => import('../screens/Templates'));
const TemplateEditor = lazy(() => import('../screens/TemplateEditor'));
const Campaigns = lazy(() => import('../screens/Campaigns'));
const CampaignDetail = lazy(() => import('../screens/CampaignDetail'));
const Suppressions = lazy(() => import('../screens/Suppressions'));
const Users = lazy(() => import('../screens/Users'));
const Profile = lazy(() => import('../screens/Profile'));
const Pending = lazy(() => import('../screens/Pending'));
const Inspections = lazy(() => import('../screens/ops/Inspections'));
const InspectionDetail = lazy(() => import('../screens/ops/InspectionDetail'));
const Tickets = lazy(() => import('../screens/ops/Tickets'));
const TicketDetail = lazy(() => import('../screens/ops/TicketDetail'));
const Surveys = lazy(() => import('../screens/ops/Surveys'));

/** Client routes; the server answers index.html for the same list (src/console/client-routes.ts). */
export const router = createBrowserRouter([
  { path: '/login', element: <Login /> },
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Navigate to="/dashboard" replace /> },
      { path: '/dashboard', element: <Dashboard /> },
      { path: '/stats/sends', element: <Stats kind="sends" /> },
      { path: '/stats/failures', element: <Stats kind="failures" /> },
      { path: '/delivery-log', element: <DeliveryLog /> },
      { path: '/delivery-log/messages/:id', element: <MessageTimeline /> },
      { path: '/operation-log', element: <OperationLog /> },
      { path: '/tenants', element: <Tenants /> },
      { path: '/tenants/:id', element: <TenantDetail /> },
      { path: '/domains', element: <Domains /> },
      { path: '/domains/:id', element: <DomainDetail /> },
      { path: '/lists', element: <Lists /> },
      { path: '/lists/:tenantId/:listId', element: <ListDetail /> },
      { path: '/templates', element: <Templates /> },
      { path: '/templates/new', element: <TemplateEditor /> },
      { path: '/templates/:id', element: <TemplateEditor /> },
      { path: '/campaigns', element: <Campaigns /> },
      { path: '/campaigns/:id', element: <CampaignDetail /> },
      { path: '/suppressions', element: <Suppressions /> },
      { path: '/users', element: <Users /> },
      { path: '/profile', element: <Profile /> },
      { path: '/webhooks', element: <Pending kind="webhooks" /> },
      { path: '/ops/inspections', element: <Inspections /> },
      { path: '/ops/inspections/:id', element: <InspectionDetail /> },
      { path: '/ops/tickets', element: <Tickets /> },
      { path: '/ops/tickets/:id', element: <TicketDetail /> },
      { path: '/ops/surveys', element: <Surveys /> },
      { path: '*', element: <Navigate to="/dashboard" replace /> },
    ],
  },
]);
